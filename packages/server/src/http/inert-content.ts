/**
 * The headers of every answer that carries an object (storage API v1, signed URLs, S3, the fast
 * read path; 200, 206, 304 and HEAD alike). Objects are served from the origin of the web console
 * and a signed URL opens without credentials, so whoever can store an object could otherwise
 * hand out a page (`text/html`, `image/svg+xml`) whose script runs as that origin: reads its
 * storage, calls the API with the console's token.
 *
 * - `Content-Security-Policy: sandbox` (CSP3 §6.3.2) opens the object, when a browser shows it as
 *   a document, in a unique opaque origin without scripts, forms, pop-ups or plugins. Images,
 *   text, PDFs and HTML (without its scripts) still display. A response used as an image, by
 *   fetch() (the console's previews) or saved as a download is not a document and ignores it.
 * - `X-Content-Type-Options: nosniff` keeps the browser to the stored type, so bytes stored as
 *   `text/plain` or `application/octet-stream` are never taken for HTML or a script.
 *
 * No `Content-Disposition: attachment` is added for active types: the sandbox already takes
 * their scripts away, and the header would change what S3 and v1 clients read back as the
 * stored disposition. A separate origin for user content (STOWAGE_USER_CONTENT_URL) keeps even
 * inert pages off the console's origin.
 */
export const INERT_CONTENT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'content-security-policy': 'sandbox',
});
