/** Moved to core/usecases/postCreditNotes.ts; this path stays for test/e2e/pollFlow.test.ts, which imports it. */
export { returnAssociatedRef, toCreditOrder } from '../../../../core/usecases/postCreditNotes';
