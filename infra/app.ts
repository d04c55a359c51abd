/** CDK entry point (cdk.json: `npx tsx infra/app.ts`). */
import { createPipelineApp } from './pipeline-app';

createPipelineApp();
