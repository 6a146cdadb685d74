// At most `limit` restarts per namespace in any window of `windowMs`: a
// namespace opting in with a hundred Deployments must not restart them all at
// once (capacity, PodDisruptionBudgets, and a bad sidecar would hit everything).
export class WindowRateLimiter {
  private readonly taken = new Map<string, number[]>();

  constructor(
    readonly limit: number,
    readonly windowMs = 60_000,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`rate limit must be a positive integer, got ${limit}`);
  }

  /** Takes one slot for `key` at `now` if the window has room. */
  tryTake(key: string, now: number): boolean {
    const recent = (this.taken.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.limit) {
      this.taken.set(key, recent);
      return false;
    }
    recent.push(now);
    this.taken.set(key, recent);
    return true;
  }

  /** When `key` gets its next slot (now if it has one). */
  nextSlot(key: string, now: number): number {
    const recent = (this.taken.get(key) ?? []).filter((t) => now - t < this.windowMs);
    return recent.length < this.limit ? now : recent[0]! + this.windowMs;
  }
}
