/**
 * The returns flow suite (./returnsFlow.suite.ts) on n8n's queue mode, as a growing client runs it:
 * PostgreSQL, Redis, the main process (editor, API, schedules), one `n8n webhook` process taking
 * the intake's deliveries and two `n8n worker` processes running every execution
 * (scripts/n8n/topology.ts). "n8n restarts" restarts every process; Postgres and Redis stay up.
 */
import { returnsFlowSuite } from './returnsFlow.suite';

returnsFlowSuite({ mode: 'queue', db: 'postgres', workers: 2, webhookProcesses: 1 });
