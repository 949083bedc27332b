import type { IncomingMessage, RequestListener, Server, ServerOptions, ServerResponse } from 'node:http';
import { parse as parseForm } from 'node:querystring';
import { HTTPModuleFunctions, isValidSlackRequest, type ReceiverProcessEventErrorHandlerArgs } from '@slack/bolt';
import { errorCode } from '../../core/errors.js';
import type { Clock, Logger } from '../../core/ports.js';

/**
 * The largest body `/slack/events` accepts: 1 MiB, a quarter of Bolt's 4 MiB default. What Slack really sends us:
 * - a send-modal `view_submission` echoes the modal: a 4,096-character message twice (initial value and state), a
 *   3,000-character private_metadata and the recipients. Form-encoding a 3-byte UTF-8 character takes 9 bytes
 *   (`%E2%82%AC`), so even written entirely in such characters that is about 130 KiB;
 * - Slack's largest possible modal (100 input blocks of 3,000 ASCII characters) is about 330 KB form-encoded, and a
 *   click on one of our messages echoes at most Slack's 50 blocks of 3,000 characters.
 * 1 MiB leaves room for all of that; bigger bodies are refused (413) before they are read whole.
 */
export const SLACK_BODY_LIMIT_BYTES = 1024 * 1024;

/** Header and body time-outs, the connection cap, and the total of unverified body bytes held at once. */
export const HTTP_LIMITS = {
  /** A client has this long to send its request headers (Node's default is 60 s). */
  headersTimeoutMs: 10_000,
  /** …and this long for the whole request, body included (Node's default is 5 minutes). */
  requestTimeoutMs: 15_000,
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: 5_000,
  /**
   * A connection that sends nothing for this long is closed. Node's header time-out starts with the first byte of a
   * request, so without this a client that connects and stays silent would hold its socket for ever.
   */
  idleSocketTimeoutMs: 10_000,
  /** How often Node checks the two time-outs above (its default, 30 s, would let a stalled socket live 45 s). */
  checkIntervalMs: 1_000,
  /** Open connections beyond this are closed on accept. Slack and WAPing open a handful at a time. */
  maxConnections: 256,
  /**
   * Every Slack request may hold this much body before it is verified: real ones are a few KiB, so stalled big bodies
   * never crowd them out. With the connection cap that is at most 256 × 64 KiB = 16 MiB.
   */
  bodyAllowanceBytes: 64 * 1024,
  /**
   * Bytes past that allowance, all requests together (the rare big modal): at most 16 MiB more. Past it a request is
   * answered 503 at once. So unverified Slack bodies never hold more than 32 MiB in total.
   */
  inFlightBodyBytes: 16 * 1024 * 1024,
} as const;

export type HttpLimits = typeof HTTP_LIMITS;

/** Options for `http.createServer` (through `app.start(port, options)`) that bound slow clients. */
export function serverOptions(limits: HttpLimits = HTTP_LIMITS): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
  };
}

/** The same bounds on a server someone else created (Socket Mode's custom-route server), plus the connection cap. */
export function limitServer(server: Server, limits: HttpLimits = HTTP_LIMITS): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.timeout = limits.idleSocketTimeoutMs; // with no 'timeout' listener, Node destroys the idle socket
  // Read by Node when the server starts listening; a server already listening keeps the interval it started with.
  Object.assign(server, { connectionsCheckingInterval: limits.checkIntervalMs });
}

/** Slack refuses requests older than 5 minutes; the same window applies to ones from the future. */
const SLACK_TIMESTAMP_WINDOW_SECONDS = 5 * 60;

export interface SlackGuardOptions {
  /** Bolt's listener, which gets the request once its body is read (as `rawBody`, which Bolt reuses). */
  next: RequestListener;
  signingSecret: string;
  clock: Clock;
  logger: Logger;
  /** The paths Bolt serves Slack's requests on. */
  endpoints?: readonly string[];
  limits?: HttpLimits;
}

class Refusal {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {}
}

/** Answer and close the connection, so that the rest of a refused body is never read. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, reason: string): void {
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  res.shouldKeepAlive = false;
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ error: reason }), () => req.socket.destroy());
}

/**
 * Whether the body Bolt will parse is a JSON object. Bolt JSON-parses `payload=` (or the whole body) and reads fields
 * of the result without checking it: `payload=null` throws inside its request handler, which then never answers.
 */
function boltBodyIsObject(raw: string, contentType: string | undefined): boolean {
  try {
    if (contentType === 'application/x-www-form-urlencoded') {
      // The parser Bolt uses. A repeated `payload` is an array, which is refused rather than passed on as a body.
      const { payload } = parseForm(raw);
      if (payload === undefined) return true;
      return typeof payload === 'string' && isObject(JSON.parse(payload));
    }
    return isObject(JSON.parse(raw));
  } catch {
    return false;
  }
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A request listener in front of Bolt's. For Slack's endpoints it reads the body itself, at most
 * {@link SLACK_BODY_LIMIT_BYTES} per request and `inFlightBodyBytes` over all requests (413, or 503 when the total is
 * spent), refuses timestamps more than 5 minutes in the future like Bolt refuses stale ones (401), and answers 400 at
 * once to a signed body Bolt could not handle (`payload=null`). Other paths go straight to Bolt's routes, which bound
 * their own bodies (`/waping/webhooks`: 256 KiB).
 */
export function slackRequestGuard(options: SlackGuardOptions): RequestListener {
  const limits = options.limits ?? HTTP_LIMITS;
  const endpoints = new Set(options.endpoints ?? ['/slack/events']);
  let inFlight = 0;

  const readBody = (req: IncomingMessage): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > SLACK_BODY_LIMIT_BYTES) {
        reject(new Refusal(413, `body larger than ${SLACK_BODY_LIMIT_BYTES} bytes`));
        return;
      }
      // Past each request's own allowance, a declared length is reserved up front from the shared budget; a chunked
      // body's share grows as it arrives.
      const allowance = limits.bodyAllowanceBytes;
      let reserved = Number.isFinite(declared) ? Math.max(0, declared - allowance) : 0;
      if (inFlight + reserved > limits.inFlightBodyBytes) {
        reject(new Refusal(503, 'too many request bodies in flight'));
        return;
      }
      inFlight += reserved;
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const settle = (error?: Refusal) => {
        if (settled) return;
        settled = true;
        inFlight -= reserved;
        req.off('data', onData);
        if (error) {
          req.pause(); // read no more of a refused body
          reject(error);
        } else resolve(Buffer.concat(chunks, size));
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size - allowance > reserved) {
          inFlight += size - allowance - reserved;
          reserved = size - allowance;
        }
        if (size > SLACK_BODY_LIMIT_BYTES) settle(new Refusal(413, `body larger than ${SLACK_BODY_LIMIT_BYTES} bytes`));
        else if (inFlight > limits.inFlightBodyBytes) settle(new Refusal(503, 'too many request bodies in flight'));
        else chunks.push(chunk);
      };
      req.on('data', onData);
      req.once('end', () => settle());
      req.once('error', () => settle(new Refusal(400, 'body could not be read')));
      // A client that goes away mid-body (or is cut off by the request time-out) frees its share at once.
      req.once('close', () => settle(new Refusal(400, 'connection closed before the body ended')));
    });

  const guard = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch (error) {
      const refusal = error instanceof Refusal ? error : new Refusal(400, 'body could not be read');
      if (refusal.status !== 400)
        options.logger.warn({ status: refusal.status }, `Slack request refused: ${refusal.reason}`);
      refuse(req, res, refusal.status, refusal.reason);
      return;
    }
    const timestamp = Number(req.headers['x-slack-request-timestamp']);
    if (timestamp > Math.floor(options.clock.now() / 1000) + SLACK_TIMESTAMP_WINDOW_SECONDS) {
      options.logger.warn({}, 'Slack request refused: x-slack-request-timestamp is more than 5 minutes ahead');
      refuse(req, res, 401, 'request timestamp is in the future');
      return;
    }
    const raw = body.toString();
    const contentType = req.headers['content-type'];
    const signed = isValidSlackRequest({
      signingSecret: options.signingSecret,
      body: raw,
      headers: {
        'x-slack-signature': String(req.headers['x-slack-signature'] ?? ''),
        'x-slack-request-timestamp': timestamp,
      },
      nowMilliseconds: options.clock.now(),
    });
    // Unsigned requests go on to Bolt, which refuses them (401) the way it always has.
    if (signed && !boltBodyIsObject(raw, contentType)) {
      options.logger.warn({}, 'signed Slack request refused: its body or payload is not a JSON object');
      refuse(req, res, 400, 'the body (or its payload field) must be a JSON object');
      return;
    }
    Object.assign(req, { rawBody: body });
    options.next(req, res);
  };

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    if (req.method !== 'POST' || !endpoints.has(path)) {
      options.next(req, res);
      return;
    }
    guard(req, res).catch((error: unknown) => {
      options.logger.error({ err: error }, 'Slack request failed before Bolt saw it');
      refuse(req, res, 400, 'request could not be handled');
    });
  };
}

/**
 * HTTPReceiver's `processEventErrorHandler`. Listener errors end in `app.error()`; what reaches this handler was
 * thrown by Bolt itself before any listener ran, reading a signed body Slack would never send (`"team": null`, a team
 * id `constructor` that Bolt looks up in a plain object). That is the client's fault: 400, not Bolt's 500.
 */
export function answerUnreadableEvents(logger: Logger) {
  return async (args: ReceiverProcessEventErrorHandlerArgs): Promise<boolean> => {
    const { error, response } = args;
    if (response.headersSent || errorCode(error) === 'slack_bolt_authorization_error') {
      return HTTPModuleFunctions.defaultProcessEventErrorHandler(args);
    }
    logger.warn({ err: error }, 'Bolt could not read a signed Slack request; answered 400');
    response.writeHead(400, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: 'not a request Slack sends' }));
    return true;
  };
}
