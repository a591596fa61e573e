// vega-lite's own types need moduleResolution node16+; the benchmark uses only compile().
declare module 'vega-lite' {
  export function compile(spec: unknown): { spec: import('vega').Spec };
}
