/**
 * The exit codes of every `stowage` command (docs/cli.md lists them): one table, so that a script
 * can tell "not there" from "wrong call" from "not allowed" from "failed" whatever the command.
 */
export const Exit = {
  /** Done. */
  ok: 0,
  /** What was named is not there: a key, a local file, a bucket (and `exists` saying no). */
  notFound: 1,
  /** The call was wrong: flags, arguments, a key or a value the server refuses as invalid. */
  usage: 2,
  /** No credentials, credentials refused, or not allowed. */
  auth: 3,
  /** Anything else: the server or the network failed, or part of a batch did not go through. */
  other: 4,
} as const;
