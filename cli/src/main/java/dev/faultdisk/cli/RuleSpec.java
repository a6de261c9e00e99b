package dev.faultdisk.cli;

import dev.faultdisk.client.BlkdebugRule;
import dev.faultdisk.wire.Errno;
import java.util.List;

/**
 * blkdebug rules written on the command line: {@code EVENT[,KEY=VALUE|FLAG...]}, e.g.
 * {@code write_aio,errno=ENOSPC,once} for --inject-error and {@code write_aio,state=1,new-state=2}
 * for --set-state. The server checks event names and ranges; this only checks the form.
 */
final class RuleSpec {
    static final String INJECT_KEYS = "errno=E, state=N, sector=N, iotype=T[+T...], once, immediately";
    static final String SET_STATE_KEYS = "new-state=N (required), state=N";

    private RuleSpec() {}

    static BlkdebugRule injectError(String spec) {
        String[] parts = split(spec, "--inject-error");
        BlkdebugRule rule = BlkdebugRule.injectError(parts[0]);
        for (int i = 1; i < parts.length; i++) {
            String part = parts[i];
            int eq = part.indexOf('=');
            String key = eq < 0 ? part : part.substring(0, eq);
            String value = eq < 0 ? null : part.substring(eq + 1);
            rule = switch (key) {
                case "once" -> flag(value, key, spec) ? rule.once() : rule;
                case "immediately" -> flag(value, key, spec) ? rule.immediately() : rule;
                case "errno" -> rule.errno(Errno.parse(need(value, key, spec)));
                case "state" -> rule.state(intNumber(value, key, spec));
                case "sector" -> rule.sector(number(value, key, spec));
                case "iotype" -> rule.iotype(need(value, key, spec).split("\\+"));
                default ->
                    throw new IllegalArgumentException("--inject-error " + spec + ": unknown '" + key
                            + "' (after the event: " + INJECT_KEYS + ")");
            };
        }
        return rule;
    }

    static BlkdebugRule setState(String spec) {
        String[] parts = split(spec, "--set-state");
        Integer state = null;
        Integer newState = null;
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            String key = eq < 0 ? parts[i] : parts[i].substring(0, eq);
            String value = eq < 0 ? null : parts[i].substring(eq + 1);
            switch (key) {
                case "state" -> state = intNumber(value, key, spec);
                case "new-state", "new_state" -> newState = intNumber(value, key, spec);
                default ->
                    throw new IllegalArgumentException("--set-state " + spec + ": unknown '" + key
                            + "' (after the event: " + SET_STATE_KEYS + ")");
            }
        }
        if (newState == null) {
            throw new IllegalArgumentException("--set-state " + spec + ": needs new-state=N");
        }
        return state == null
                ? BlkdebugRule.setState(parts[0], newState)
                : BlkdebugRule.setState(parts[0], state, newState);
    }

    /** A JSON array of rule objects, exactly as blkdebug-set-rules takes them. */
    static List<BlkdebugRule> json(String text, String where) {
        return RuleJson.parse(text, where, BlkdebugRule::fromJson);
    }

    private static String[] split(String spec, String option) {
        String[] parts = spec.split(",", -1);
        if (parts[0].isBlank()) {
            throw new IllegalArgumentException(option + " needs an event first, e.g. " + option + " write_aio,...");
        }
        return parts;
    }

    private static boolean flag(String value, String key, String spec) {
        if (value == null || value.equals("true") || value.equals("1")) {
            return true;
        }
        if (value.equals("false") || value.equals("0")) {
            return false;
        }
        throw new IllegalArgumentException(spec + ": " + key + " takes no value (or true/false)");
    }

    private static String need(String value, String key, String spec) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException(spec + ": " + key + " needs a value (" + key + "=...)");
        }
        return value;
    }

    private static int intNumber(String value, String key, String spec) {
        long n = number(value, key, spec);
        if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(spec + ": " + key + " is out of range");
        }
        return (int) n;
    }

    private static long number(String value, String key, String spec) {
        try {
            return Long.parseLong(need(value, key, spec));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(spec + ": " + key + " must be a number, not '" + value + "'");
        }
    }
}
