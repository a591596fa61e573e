/**
 * The layer rule of src/ (README, "Architecture"): a folder may import only folders on lower
 * floors; folders on one floor do not import each other. With a strict order there can be no
 * import loop between folders; `no-circular` also forbids loops between files.
 */
const FLOORS = [
  ['generated'],
  ['config'],
  ['common'],
  ['metrics', 'stack', 'telemetry'],
  ['redis', 'grpc'],
  ['movies'],
  ['trending'],
  ['benchmark'],
  ['ops'],
  ['cli'],
];
/** Entry points and the app module, in src/ itself: the top floor. */
const TOP = '^src/[^/]+\\.ts$';

const folder = (name) => `^src/${name}/`;
const forbidden = FLOORS.flatMap((floor, level) =>
  floor.map((name) => {
    const sameFloor = floor.filter((other) => other !== name);
    const above = FLOORS.slice(level + 1).flat();
    return {
      name: `layer-${name}`,
      comment: `src/${name}/ may import only the floors below it`,
      severity: 'error',
      from: { path: folder(name) },
      to: { path: [...above, ...sameFloor].map(folder).concat(TOP) },
    };
  }),
);

module.exports = {
  forbidden: [
    ...forbidden,
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'cli-without-nest',
      comment:
        'the CLI answers in about 0.1 s; NestJS and rxjs, reached through any import, add 0.2 s a call',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: 'node_modules/(@nestjs/|rxjs/)', reachable: true },
    },
    {
      name: 'src-not-to-tests',
      comment:
        'the product does not import test code (unit specs beside it may use test factories)',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
