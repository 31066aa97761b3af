// For a target this machine does not reach: where the time goes (as profiled) and what would
// close the gap. The table adds the note to a row only when the row fails in the run.
export const WHY_MISSED = {
  get:
    'Done in this round, each measured back to back with the ceiling: the SQLite lookup (17% of samples) became a hit in an in-memory row cache, five async hooks one done-style hook, the per-request pino child lazy (0.19x to 0.33x); then a plain GET or HEAD of an inline object by a known token is answered from node:http ahead of Fastify (http/fast-read.ts; 0.47x back to back, 0.45x in the previous full run: whole runs on this machine vary by about ±0.1). ' +
    "Where the time goes now (--cpu-prof under this load): the kernel's writev of each response, which also wakes the load generator, is about 40% of the server's main thread and the thread is idle about 28% (wrk's two threads and the server share the 2 cores); the JavaScript left is node:http's header validation and formatting for ten headers, the token, key and row lookups and prom-client, none above 2%. " +
    'What would close it: fewer response headers (each is validated and formatted by node:http on every response), and a load generator on cores of its own, which this 2-core machine does not have.',
  head: 'The GET path without a body: see GET.',
  'put-new':
    "One event loop does all of a PUT's work: parsing, auth, hashing, the group-commit transaction and its synchronous WAL fsync (about 0.5 ms here), the answer; the ceiling writes a file without fsync. The p99 is requests that arrive while a batch of up to 32 commits: SQLite's COMMIT and fsync block the loop. " +
    'Done in this round: no quota pre-check for small bodies, usage and quota in one statement (was 8% of samples), one request hook, lazy request logger. Tried and reverted: the WAL fsync on the thread pool with commits acknowledged after it: each sync then covered about half the writers and throughput fell. ' +
    'What would close it: the index on a thread of its own (a worker owning the SQLite connection), so that commits and their fsync never stop request handling.',
  'put-overwrite':
    'The same path as PUT new key (see there), and a row that swings around 1.0x from run to run on this machine: 1.04x before, 1.16x in the previous full run of this code.',
  download:
    'This 2-core VM gives one 1 GiB transfer either about 1.0-1.2 GB/s or 1.7-2.1 GB/s, for the same server and the same curl, from one process layout to the next: started from a shell, Stowage downloaded at 1.75, 1.69 and 1.91 GB/s (node-ceiling 1.59, 1.89, 1.87) and at 0.99-1.18 GB/s a few minutes later with the same script; started from the benchmark it stays near 1.0. A CPU profile of the server during downloads shows no hot spot (the main thread is mostly idle, its work is the socket writes). Done in this round: 1 MiB reads (256 KiB before, 0.46x). What would close it: sendfile-style zero copy, which Node does not offer for HTTP responses, and a machine whose transfers do not swing 2x.',
  upload:
    'Stowage hashes (sha256: the ETag) and fsyncs every byte; the references do neither. With the hash skipped by hand, a 1 GiB PUT ran at about 620 MB/s here against 370-440 with it: on 2 cores, hashing (1.8 GB/s per core) competes with curl and the event loop. ' +
    'Done in this round: large bodies are hashed on a worker thread in 1 MiB batches (+15%), and an fdatasync every 64 MiB leaves the final fsync under 1 ms (was 336 ms). What would close it: more cores than the load generator, the event loop and the hash thread need.',
  'upload-resumable':
    "Each 8 MiB chunk is a request that waits for the chunk's fsync and two index commits (claim and advance) before the client sends the next, and the server continues the session's hash on the event loop. " +
    'Done in this round: the running hash is native instead of hash-wasm (which ran 200 MB/s and capped uploads), and the client hashes while sending, so the file is read once. What would close it: one index commit per chunk, and a chunk in flight while the previous one is made durable (the GCS protocol allows one chunk at a time per session).',
  'pg-s3-get':
    "Every byte goes RGW → Stowage → client, so Stowage, RGW and the load generator share the 2 cores, where the SDK reference has only RGW and the client: a proxy of the store cannot reach its speed on this machine, and the GET loop is CPU bound (load average above 4 during these rows). Per request, Stowage also looks the row up in PostgreSQL before asking RGW. What would close it: Stowage on its own cores (a real deployment runs it apart from the store), or redirects to presigned RGW URLs for large reads, which would bypass Stowage's own checks and metrics.",
  'pg-s3-upload':
    'As for the GET: the bytes cross Stowage on the way to RGW, with the sha256 and the multipart upload (8 MiB parts, 2 in flight) on the same 2 cores as RGW and curl; the ratio sits at the target (0.70x median, 0.60-0.78). What would close it: Stowage on cores of its own, or more parts in flight (memory per upload grows with them).',
  'fresh-connection':
    'Node (libuv 1.45 and later) accepts one new connection per turn of the event loop, and under the flood a turn serves every connection whose request is ready (hundreds), so a newcomer waits about two turns: one to be accepted, one for its request. Refused clients no longer reconnect (they keep their connections), so no queue of reconnections forms ahead of it, and refusals are made without a stack trace. What would close the rest: shorter turns (a cheaper refusal, fewer connections per server) or a second listening socket (SO_REUSEPORT, Node 22.12 and later), and a load generator on cores of its own.',
};
