/**
 * bench/checked-n.ts with nsenter's code loaded first, none of it run but libc's binding (which
 * checked-n then uses instead of its own), as bench/checked-a-loaded.ts is for -a. The gap between
 * the two is what loading nsenter costs before its first line does anything; the gap to
 * bench/minimal-n.ts what a program that loads nsenter's code and makes nsenter's checks costs at
 * the least (README "Speed").
 *   bench-checked-n-loaded -t PID -n PROGRAM
 */
import "./nsenter-loaded.ts";
import "./checked-n.ts";
