// Worker entry: loads TensorFlow.js, picks the best backend that starts and reports what it
// tried, then exits. Run by probe.ts so the service process never loads TF.js itself.
import { describeChoice, selectBackend } from './select.js';

const choice = await selectBackend();
process.send?.({ chosen: choice.name, tried: choice.tried, added: choice.added, summary: describeChoice(choice) }, () => process.exit(0));
