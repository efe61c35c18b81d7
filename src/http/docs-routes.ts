/**
 * The API's description: `GET /openapi.json` (the OpenAPI 3.1 document, ./openapi.ts) and `GET /docs`
 * (the same as a page to read, ./docs-page.ts). Neither needs a token: they say what the service
 * does, not what it holds. Both are made once, when the router is built.
 */
import { Router } from 'express';
import { renderDocsPage } from './docs-page.js';
import { openApiDocument } from './openapi.js';

export function docsRouter(): Router {
  const document = openApiDocument();
  const json = JSON.stringify(document);
  const page = renderDocsPage(document);
  const router = Router();
  router.get('/openapi.json', (_request, response) => {
    response.type('application/json').send(json);
  });
  router.get('/docs', (_request, response) => {
    response.type('text/html').send(page);
  });
  return router;
}
