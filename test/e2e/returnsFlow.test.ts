/** The returns flow suite (./returnsFlow.suite.ts) on one n8n process with SQLite, n8n's embedded default. */
import { returnsFlowSuite } from './returnsFlow.suite';

returnsFlowSuite({ db: 'sqlite', mode: 'regular' });
