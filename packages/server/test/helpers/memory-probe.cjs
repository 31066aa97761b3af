// Preloaded into a server process started with `startServerProcess(..., { memoryProbe: true })`:
// each 'live-memory' message is answered with the memory the process still uses after a full
// collection (V8 heap and the buffers it tracks), and its RSS. A bound on that is a bound on what
// the server holds, not on when V8 chooses to collect: the garbage of a 200 MiB transfer (a
// buffer per socket read) may reach tens of MiB before a collection, more on some Node versions.
const v8 = require('node:v8');
const vm = require('node:vm');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

process.on('message', (message) => {
  if (message !== 'live-memory') return;
  gc();
  const { heapUsed, external, rss } = process.memoryUsage();
  process.send({ live: heapUsed + external, rss });
});
// The channel must not keep the server up once it is told to stop.
process.channel?.unref();
