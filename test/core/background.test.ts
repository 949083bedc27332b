import { describe, expect, it } from 'vitest';
import { BackgroundWork } from '../../src/core/background.js';
import { quietLogger } from '../support/fakes.js';

describe('BackgroundWork', () => {
  it('starts named work once while it runs, and again once it has ended', async () => {
    const work = new BackgroundWork(quietLogger());
    let started = 0;
    let finish!: () => void;
    const job = () => {
      started++;
      return new Promise<void>((resolve) => {
        finish = resolve;
      });
    };
    work.runOnce('id-1', job, {}, 'failed');
    work.runOnce('id-1', job, {}, 'failed'); // the sweep finding it again while it runs
    expect(started).toBe(1);
    finish();
    await work.idle();
    work.runOnce('id-1', job, {}, 'failed');
    expect(started).toBe(2);
    finish();
    await work.idle();
  });
});
