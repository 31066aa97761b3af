const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/** Parses `90s`, `15m`, `1h`, `7d`, `250ms` (or bare seconds) into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not a duration (e.g. 30s, 15m, 1h, 7d)`);
  const value = Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] ?? 1000);
  if (!Number.isSafeInteger(Math.round(value))) throw new Error(`"${text}" is too long`);
  return Math.round(value);
}

/** Parses `1048576`, `512k`, `64MiB`, `5g` (binary multiples) into bytes. */
export function parseByteSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = BYTE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (!match || unit === undefined) throw new Error(`"${text}" is not a size (e.g. 1048576, 512k, 64MiB, 5g)`);
  return Math.floor(Number(match[1]) * unit);
}
