#!/usr/bin/env node
// A backup, its restore and a migration write and fsync one file per blob, and libuv runs at most
// 4 file operations at once by default: give them more threads. The pool starts on its first use,
// so this must be set before main loads (an operator's own setting wins).
const FILE_HEAVY_COMMANDS = new Set(['backup', 'restore-backup', 'migrate']);
if (process.env.UV_THREADPOOL_SIZE === undefined && FILE_HEAVY_COMMANDS.has(process.argv[2] ?? '')) {
  process.env.UV_THREADPOOL_SIZE = '16';
}
await import('../dist/main.js');
