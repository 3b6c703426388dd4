/**
 * nsenter's modules, as src/main.ts imports them (but the guard), loaded and not run: everything
 * main.ts calls is referenced, so the bundler keeps what nsenter's bundle has. Only libc's binding
 * is used, put where bench/straight.ts looks for it: imported before checked-a.ts or checked-n.ts
 * (bench/checked-a-loaded.ts, bench/checked-n-loaded.ts).
 */
import { Errno, Exit, NsenterError } from "../src/errors.ts";
import { run } from "../src/execute.ts";
import { hostFacts, namespaceFacts } from "../src/facts.ts";
import { helpText, versionText } from "../src/help.ts";
import { inheritedDescriptors } from "../src/inherited.ts";
import { core, leave, nulWords, Sig, say, strerror, writeAll } from "../src/libc.ts";
import { openAll } from "../src/open.ts";
import { plan } from "../src/plan.ts";
import { quickPlan } from "../src/quick-plan.ts";
import { dieOf } from "../src/wait.ts";

(globalThis as { nsenterCore?: unknown }).nsenterCore = core();
// Never true: only keeps what main.ts uses in the bundle.
if (process.argv.length > 1 << 20) {
  const all = [Errno.EPIPE, Exit.FAILURE, NsenterError, run, hostFacts, namespaceFacts, helpText, versionText];
  const more = [
    inheritedDescriptors,
    leave,
    nulWords,
    Sig.PIPE,
    say,
    strerror,
    writeAll,
    openAll,
    plan,
    quickPlan,
    dieOf,
  ];
  say(`${all.length + more.length}`);
}
