/**
 * bench/checked-a.ts with nsenter's code loaded first, none of it run but libc's binding (which
 * checked-a then uses instead of its own): every module src/main.ts imports but the guard, so the
 * load costs what nsenter's does (its declarations, its modules' top-level code). The gap between
 * the two is what loading nsenter costs before its first line does anything.
 *   bench-checked-a-loaded -t PID -a PROGRAM
 */
import "./nsenter-loaded.ts";
import "./checked-a.ts";
