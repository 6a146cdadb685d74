// The middle of a set of samples (the mean of the two middle ones for an
// even count): what the benches report where one run is too noisy to trust.
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
