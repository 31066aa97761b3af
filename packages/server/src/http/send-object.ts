import type { FastifyReply } from 'fastify';
import { Headers, type StorageType } from 'stowage-client/protocol';
import type { ObjectBody, ObjectInfo } from '../backends/backend.js';

/** The headers GET and HEAD of an object share. */
export function setObjectHeaders(reply: FastifyReply, info: ObjectInfo, type: StorageType): FastifyReply {
  reply.header('content-type', info.contentType);
  reply.header('content-length', info.size);
  reply.header('etag', info.etag);
  reply.header('last-modified', new Date(info.lastModified).toUTCString());
  reply.header('cache-control', 'private, no-cache');
  reply.header(Headers.sha256, info.sha256);
  reply.header(Headers.storageType, type);
  if (info.expiresAt !== undefined) reply.header(Headers.expiresAt, new Date(info.expiresAt).toUTCString());
  return reply;
}

export function sendObject(reply: FastifyReply, found: { info: ObjectInfo; body: ObjectBody }, type: StorageType) {
  return setObjectHeaders(reply, found.info, type).code(200).send(found.body);
}
