// Worker entry: loads TensorFlow.js, picks the best backend that starts and reports what it
// tried, then exits. Run by probe.ts so the service process never loads TF.js itself. A short
// check: Ctrl+C may end it with its command.
import type { ComputeBackendReport } from '../api/contract.js';
import { workerMain } from '../jobs/worker-main.js';
import { describeChoice, selectBackend } from './select.js';

const channel = workerMain<never, ComputeBackendReport & { summary: string }>('backend probe', { sigint: 'default' });
const choice = await selectBackend();
channel.send({ chosen: choice.name, tried: choice.tried, added: choice.added, summary: describeChoice(choice) }, () => process.exit(0));
