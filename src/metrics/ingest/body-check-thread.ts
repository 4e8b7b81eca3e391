/**
 * The worker thread of body-checker.ts: parses and checks each agent batch it is sent and
 * answers with the metrics as columns.
 */
import { parentPort } from 'node:worker_threads';
import { answer, type BodyCheckRequest } from './body-checker.js';

parentPort!.on('message', (request: BodyCheckRequest) => {
  const { reply, transfer } = answer(request);
  parentPort!.postMessage(reply, transfer);
});
