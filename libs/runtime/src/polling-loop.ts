/**
 * Calls `round` again and again until stopped, waiting between rounds as long as the round says. A round that
 * throws is reported and the loop goes on; `wake` cuts the current wait short (or the next one, when it comes
 * during a round). Schedulers and outbox senders claim their work with it.
 */
export class PollingLoop {
  private running = false;
  private loop?: Promise<void>;
  private wakeUp?: () => void;
  private woken = false;

  constructor(
    /** One round; resolves to the wait (ms) before the next. */
    private readonly round: () => Promise<number>,
    private readonly onError: (error: unknown) => void,
    /** The wait after a round that threw. */
    private readonly retryMs: number,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Ends the loop once the round under way (if any) is over. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let waitMs = this.retryMs;
      try {
        waitMs = await this.round();
      } catch (error) {
        this.onError(error);
      }
      if (this.running) await this.sleep(waitMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    }).finally(() => {
      this.wakeUp = undefined;
      this.woken = false;
    });
  }
}
