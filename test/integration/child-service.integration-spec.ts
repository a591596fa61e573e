import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildService } from '../../src/stack/child-service';
import { sleep } from '../support/wait';

describe('a server run as a child process', () => {
  let logDir: string;
  beforeEach(() => (logDir = mkdtempSync(join(tmpdir(), 'child-service-'))));
  afterEach(() => rmSync(logDir, { recursive: true, force: true }));

  it('output that arrives after it stopped (a process it started still writing) is logged, not a crash', async () => {
    const service = await startChildService({
      name: 'talker',
      command: 'sh',
      // The shell stops at once; what it started writes to the same output a moment later.
      args: ['-c', '(sleep 0.3; echo after the stop) & echo started; exec sleep 30'],
      port: 0,
      logDir,
      probe: () => Promise.resolve(true),
    });
    await sleep(100);
    await service.stop();
    await sleep(600);

    expect(readFileSync(join(logDir, 'talker.log'), 'utf8')).toBe('started\nafter the stop\n');
  });
});
