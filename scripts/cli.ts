import '../src/common/node-version';
import { runCli } from '../src/cli/movie-cli';

void runCli(process.argv);
