// Small statistics helpers: the report gives the median and the min–max of repetitions.

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function percentile(values, p) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function min(values) {
  return Math.min(...values.filter((v) => Number.isFinite(v)));
}

export function max(values) {
  return Math.max(...values.filter((v) => Number.isFinite(v)));
}

/** The list rotated left by `n`: repetition n starts with the n-th server. */
export function rotated(list, n) {
  const k = list.length === 0 ? 0 : n % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** Element-wise a[i] / b[i], for the ratio of two servers measured in the same repetition. */
export function ratios(a = [], b = []) {
  return a.map((value, i) => value / b[i]).filter((v) => Number.isFinite(v));
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Appends `value` to the list `record[name]`, creating it. */
export function append(record, name, value) {
  if (!record[name]) record[name] = [];
  record[name].push(value);
}
