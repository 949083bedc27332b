/** How hard and how long a send is tried, and how long one replica owns it. */
export interface SendPolicy {
  /** How long one replica owns a send before another may take it over. Much longer than one HTTP attempt. */
  leaseMs: number;
  /** HTTP attempts made in one go before the send is left to the recovery sweep. */
  attemptsPerRun: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** After this long without a definite answer from WAPing, the send is marked failed. */
  giveUpAfterMs: number;
}

export const defaultSendPolicy: SendPolicy = {
  leaseMs: 60_000,
  attemptsPerRun: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  giveUpAfterMs: 60 * 60 * 1000,
};
