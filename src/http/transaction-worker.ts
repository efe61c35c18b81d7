/**
 * A worker thread of {@link transactionReaderPool} (src/http/transaction-reader.ts): reads each
 * transaction Bundle it is sent with its own validator and answers with the result.
 */
import { parentPort } from 'node:worker_threads';
import { isParsedPlan } from '../sip/index.js';
import { createValidator } from '../validation/index.js';
import { readTransaction, type ReadReply, type ReadRequest } from './transaction-reader.js';

const port = parentPort;
if (port === null) throw new Error('transaction-worker runs as a worker thread');
const validator = createValidator();
port.on('message', (request: ReadRequest) => {
  let reply: ReadReply;
  try {
    // The text is JSON the main thread accepted: the request's body as sent, or the Bundle written again.
    const result = readTransaction(JSON.parse(request.text) as unknown, validator);
    reply = { id: request.id, result, ...(result.ok && isParsedPlan(result.plan) ? { parsedPlan: true as const } : {}) };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
