// For a target this machine does not reach: where the time goes (as profiled) and what would
// close the gap. The table adds the note to a row only when the row fails in the run.
export const WHY_MISSED = {
  get:
    "Where the time goes (perf and --cpu-prof under this load): about 30% of the server's CPU is the kernel sending each response over loopback and waking the load generator, the same writev the ceiling makes; the rest is spread over Fastify's request and reply objects, node:http's header handling and what each request does here and the ceiling does not (token lookup, admission and per-user counts, request id, send-idle timer, metrics, ten response headers, the row lookup), none above 3% of samples. " +
    'Done in this round: the SQLite lookup (17% of samples) is a hit in an in-memory row cache, five async hooks are one done-style hook, the per-request pino child is made only when a request logs. ' +
    "Measured by switching features off by hand: with all of them off the same route reaches about 0.55x, and a Fastify route answering a fixed buffer about 0.7x. What would close it: GET and HEAD of small objects served from a node:http fast path ahead of Fastify's router, with the checks above written once for both paths.",
  head: 'The GET path without a body: see GET.',
  'put-new':
    "One event loop does all of a PUT's work: parsing, auth, hashing, the group-commit transaction and its synchronous WAL fsync (about 0.5 ms here), the answer; the ceiling writes a file without fsync. The p99 is requests that arrive while a batch of up to 32 commits: SQLite's COMMIT and fsync block the loop. " +
    'Done in this round: no quota pre-check for small bodies, usage and quota in one statement (was 8% of samples), one request hook, lazy request logger. Tried and reverted: the WAL fsync on the thread pool with commits acknowledged after it: each sync then covered about half the writers and throughput fell. ' +
    'What would close it: the index on a thread of its own (a worker owning the SQLite connection), so that commits and their fsync never stop request handling.',
  'put-overwrite': 'See PUT new key: the same path.',
  download:
    "The 1 MiB reads reach the ceiling's figure in most runs (1.8-2.0 GB/s), but this 2-core machine swings between about 1.0 and 2.0 GB/s from one transfer to the next for Stowage and the ceiling alike (curl and the server share the cores); nginx's sendfile does not copy through user space. What would close it: a zero-copy path (sendfile) that Node does not offer for HTTP responses.",
  upload:
    'Stowage hashes (sha256: the ETag) and fsyncs every byte; the references do neither. With the hash skipped by hand, a 1 GiB PUT ran at about 620 MB/s here against 370-440 with it: on 2 cores, hashing (1.8 GB/s per core) competes with curl and the event loop. ' +
    'Done in this round: large bodies are hashed on a worker thread in 1 MiB batches (+15%), and an fdatasync every 64 MiB leaves the final fsync under 1 ms (was 336 ms). What would close it: more cores than the load generator, the event loop and the hash thread need.',
  'upload-resumable':
    "Each 8 MiB chunk is a request that waits for the chunk's fsync and two index commits (claim and advance) before the client sends the next, and the server continues the session's hash on the event loop. " +
    'Done in this round: the running hash is native instead of hash-wasm (which ran 200 MB/s and capped uploads), and the client hashes while sending, so the file is read once. What would close it: one index commit per chunk, and a chunk in flight while the previous one is made durable (the GCS protocol allows one chunk at a time per session).',
};
