// Bounds on shared fetches. A JWKS fetch or feed poll is shared by every verification that
// needs it; on an edge runtime it runs in the request that started it, and a platform may drop
// that request's I/O when its response is sent (Cloudflare Workers do), leaving the shared
// promise pending forever. So no verification waits on one longer than its timeout and a
// margin, and one that old is replaced by a new fetch rather than joined.

/** How long past `fetchTimeoutMs` a shared fetch may run before it is given up on. */
const MARGIN_MS = 1000;

export function settleBound(timeoutMs: number): number {
  return timeoutMs + MARGIN_MS;
}

/** `promise`, or a rejection once `ms` have passed (the timer belongs to the caller, and is cleared). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** One shared fetch at a time: joined while younger than `boundMs`, replaced once older (see above). */
export class SharedFetch {
  private current: { promise: Promise<void>; startedAt: number } | undefined;

  constructor(
    private readonly boundMs: number,
    private readonly what: string,
  ) {}

  /** The fetch under way, if one is (and not given up on). */
  get pending(): Promise<void> | undefined {
    const current = this.current;
    if (!current || Date.now() - current.startedAt > this.boundMs) return undefined;
    return within(current.promise, this.boundMs, this.what);
  }

  /** Joins the fetch under way, or starts `run`; settles within the bound either way. */
  run(run: () => Promise<void>): Promise<void> {
    const joined = this.pending;
    if (joined) return joined;
    const entry = { startedAt: Date.now(), promise: Promise.resolve() };
    entry.promise = run().finally(() => {
      if (this.current === entry) this.current = undefined;
    });
    this.current = entry;
    return within(entry.promise, this.boundMs, this.what);
  }
}
