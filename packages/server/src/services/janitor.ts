import type { Logger } from "pino";
import type { PruneResult, Storage } from "../storage/contract.js";

/** Rows per DELETE statement, and statements per table per run: bounded work per tick. */
const BATCH_SIZE = 1_000;
const MAX_BATCHES_PER_RUN = 50;

/**
 * Deletes what can never matter again — sessions past their absolute end or idle timeout,
 * revocations no longer listed in the feed nor kept for a stateless token — so the tables do
 * not grow forever. Safe on several instances at once (each delete is idempotent), and it
 * never removes a session that could still refresh: such a session is neither past its end
 * nor idle.
 */
export class Janitor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PruneResult> | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly logger: Logger,
    private readonly settings: { refreshIdleTtlSeconds: number; now: () => number },
  ) {}

  /** Runs every `intervalSeconds` in the background (0: never), until `stop()`. */
  start(intervalSeconds: number): void {
    if (intervalSeconds <= 0) return;
    this.timer = setInterval(
      () => void this.runOnce().catch((error) => this.logger.warn({ err: error }, "janitor: pruning failed")),
      intervalSeconds * 1000,
    );
    this.timer.unref();
  }

  /** One pass; concurrent calls share it. */
  runOnce(): Promise<PruneResult> {
    this.running ??= this.storage
      .pruneExpired(this.settings.now(), {
        idleMs: this.settings.refreshIdleTtlSeconds * 1000,
        batchSize: BATCH_SIZE,
        maxBatches: MAX_BATCHES_PER_RUN,
      })
      .then((result) => {
        if (result.sessions > 0 || result.revocations > 0 || result.links > 0 || result.mails > 0)
          this.logger.info({ pruned: result }, "janitor: pruned ended sessions, revocations, links and mails");
        return result;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  /** Stops the timer and waits for a pass under way, so the database can close after it. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }
}
