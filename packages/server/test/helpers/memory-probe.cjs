// Preloaded into a server process started with `startServerProcess(..., { memoryProbe: true })`
// (which also passes --expose-gc): each `{ probe: 'live-memory', id }` message is answered with
// the memory the process still uses after a full collection (V8 heap and the buffers it tracks),
// and its RSS. A bound on that is a bound on what the server holds, not on when V8 chooses to
// collect: the garbage of a 200 MiB transfer (a buffer per socket read) may reach tens of MiB
// before a collection, more on some Node versions.
process.on('message', (message) => {
  if (message?.probe !== 'live-memory') return;
  globalThis.gc();
  const { heapUsed, external, rss } = process.memoryUsage();
  process.send({ id: message.id, live: heapUsed + external, rss });
});
// The channel must not keep the server up once it is told to stop.
process.channel?.unref();
