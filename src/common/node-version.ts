/**
 * Imported first by every entry point, before NestJS loads: NestJS 12 is ESM, loaded from this
 * CommonJS build through require(esm), and older Node releases fail there with a cryptic error.
 */
export const MIN_NODE_MAJOR = 24;

const major = Number(process.versions.node.split('.')[0]);
if (major < MIN_NODE_MAJOR) {
  process.stderr.write(
    `movie-cache needs Node.js ${MIN_NODE_MAJOR} or newer; this is ${process.version}. ` +
      'npm start / npm test install the pinned release (.node-version) when the system Node is older.\n',
  );
  process.exit(1);
}
