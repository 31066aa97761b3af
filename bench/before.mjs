// What each figure was before the optimisations the report's notes describe, so the table shows their gain:
// `npm run bench -- --quick` on an idle machine at commit 9754ca2 (docs/BENCHMARKS.md then).
// Ratios are Stowage ÷ the row's reference; values are in the row's unit.
export const BEFORE = {
  commit: '9754ca2',
  figures: {
    get: '0.19x (9.4k req/s, p99 8.4 ms)',
    head: 'not measured',
    'put-new': '0.63x (p99 32.7 ms)',
    'put-overwrite': '1.04x',
    download: '0.46x',
    upload: '0.74x',
    'upload-resumable': '0.26x',
    list: '3.22 ms*',
    iterlist: '0.492 s*',
    startup: '0.471 s*',
    'client-get': '1.38x',
    'cli-exists': '0.396 s',
    'pg-s3-get': 'not measured',
    'pg-s3-upload': 'not measured',
  },
};
