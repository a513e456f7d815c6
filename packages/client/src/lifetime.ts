/**
 * Every timer and window listener of one client, so that `dispose()` ends them all at once and
 * nothing can be missed: the client arms timers and adds listeners only through this.
 */
export interface Lifetime {
  /** True once `end()` ran. */
  readonly ended: boolean;
  /**
   * Calls `callback` after `delayMs`; returns a function that cancels it. When the lifetime ends
   * first, a `wait` runs its callback at once (so that whoever awaits it moves on), anything else
   * never runs. Once ended, nothing stays armed.
   */
  after(delayMs: number, callback: () => void, wait?: boolean): () => void;
  /** Resolves after `delayMs`, or at once when the lifetime ends. */
  sleep(delayMs: number): Promise<void>;
  /** Adds a window listener, removed when the lifetime ends. */
  listen(type: string, listener: () => void): void;
  /** Runs `cleanup` when the lifetime ends. */
  onEnd(cleanup: () => void): void;
  /** Clears every timer, removes every listener and runs every cleanup; later calls do nothing. */
  end(): void;
}

/** Creates the lifetime of one client: see `Lifetime`. */
export function createLifetime(): Lifetime {
  // What end() runs: for each armed timer, its clearing (and a wait's callback); for each
  // listener, its removal; and every other cleanup. A timer leaves the set when it fires or is cancelled.
  const endings = new Set<() => void>();
  const life = {
    ended: false,
    after(delayMs: number, callback: () => void, wait?: boolean) {
      const cancel = () => {
        clearTimeout(id);
        endings.delete(end);
      };
      const end = () => {
        cancel();
        if (wait) callback();
      };
      const id = setTimeout(() => {
        cancel();
        callback();
      }, delayMs);
      // Once ended, nothing stays armed: a wait moves on at once, anything else never runs.
      if (life.ended) end();
      else endings.add(end);
      return cancel;
    },
    sleep: (delayMs: number) => new Promise<void>((resolve) => life.after(delayMs, resolve, true)),
    listen(type: string, listener: () => void) {
      addEventListener(type, listener);
      endings.add(() => removeEventListener(type, listener));
    },
    onEnd(cleanup: () => void) {
      endings.add(cleanup);
    },
    end() {
      life.ended = true;
      // A timer's ending deletes itself from the set as it runs, which a Set's iteration allows.
      for (const end of endings) end();
      endings.clear();
    },
  };
  return life;
}
