/**
 * Regenerates every fixture's golden `.grad.ts` — a deliberate step: review the diff like
 * a code change (`git diff fixtures/`) before committing it.
 *
 *   npm run fixtures:update
 */
import { main } from "../compiler/cli.ts";
import { fixtureInputs } from "./helpers/fixtures.ts";

process.exit(await main(fixtureInputs()));
