/** One scrape of the app's /metrics endpoint: sample lines by name and labels. */
export class MetricsScrape {
  private constructor(private readonly samples: Array<{ series: string; value: number }>) {}

  static async of(url: string): Promise<MetricsScrape> {
    const text = await (await fetch(url)).text();
    const samples = text
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => {
        const at = line.lastIndexOf(' ');
        return { series: line.slice(0, at), value: Number(line.slice(at + 1)) };
      });
    return new MetricsScrape(samples);
  }

  /** The sum over the series of `name` whose labels include every `label="value"` given. */
  sum(name: string, labels: Record<string, string> = {}): number {
    const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    return this.samples
      .filter(({ series }) => series === name || series.startsWith(`${name}{`))
      .filter(({ series }) => wanted.every((label) => series.includes(label)))
      .reduce((total, { value }) => total + value, 0);
  }
}
