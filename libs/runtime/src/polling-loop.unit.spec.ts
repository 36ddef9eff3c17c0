import { PollingLoop } from './polling-loop';

describe('PollingLoop', () => {
  it('runs rounds with the wait each asks for, goes on after one that throws, and stops between rounds', async () => {
    const rounds: number[] = [];
    const errors: unknown[] = [];
    const loop = new PollingLoop(
      async () => {
        rounds.push(Date.now());
        if (rounds.length === 2) throw new Error('schedule unreadable');
        return 10;
      },
      (error) => errors.push(error),
      30,
    );
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 120));
    await loop.stop();
    const count = rounds.length;
    expect(count).toBeGreaterThanOrEqual(4);
    expect(errors).toHaveLength(1);
    expect(rounds[2] - rounds[1]).toBeGreaterThanOrEqual(25); // the wait after a failed round
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(rounds).toHaveLength(count);
  });

  it('cuts a wait short when woken, also by a wake that came during the round', async () => {
    let rounds = 0;
    const loop = new PollingLoop(
      async () => {
        rounds += 1;
        if (rounds === 1) loop.wake();
        return 60_000;
      },
      () => undefined,
      60_000,
    );
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(rounds).toBe(2);
    loop.wake();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(rounds).toBe(3);
    await loop.stop();
  });
});
