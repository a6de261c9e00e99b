package dev.faultdisk.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.faultdisk.wire.json.Json;
import dev.faultdisk.wire.json.Members;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Arguments read through {@link Members} with QEMU's error texts. */
class QmpArgumentsTest {
    private final Members args = args("{\"device\": \"ide0-hd0\", \"n\": 5, \"big\": 18446744073709551615,"
            + " \"real\": 1.5, \"on\": true, \"one\": 1, \"zero\": 0, \"two\": 2, \"nothing\": null,"
            + " \"rules\": [{\"event\": \"write_aio\", \"state\": 1}, {\"state\": \"x\"}, 7], \"names\": [\"a\", 3]}");

    @Test
    void typedAccess() {
        assertEquals("ide0-hd0", args.string("device"));
        assertEquals(5, args.integer("n"));
        assertEquals(1.5, args.number("real"));
        assertEquals(5.0, args.number("n"));
        assertTrue(args.bool("on"));
        assertEquals("fallback", args.string("absent", "fallback"));
        assertEquals(-1, args.integer("absent", -1));
        assertFalse(args.bool("absent", false));
        assertEquals(3, args.list("rules").size());
        assertEquals(
                "write_aio",
                args("{\"rules\": [{\"event\": \"write_aio\"}]}")
                        .objects("rules")
                        .getFirst()
                        .string("event"));
    }

    @Test
    void booleansAcceptOneAndZero() {
        assertTrue(args.bool("one"));
        assertFalse(args.bool("zero"));
        assertError("Invalid parameter type for 'two', expected: boolean", () -> args.bool("two"));
        assertError("Invalid parameter type for 'device', expected: boolean", () -> args.bool("device"));
    }

    @Test
    void errorsUseQemusWordingAndFullNames() {
        assertError("Parameter 'missing' is missing", () -> args.string("missing"));
        assertError("Invalid parameter type for 'n', expected: string", () -> args.string("n"));
        assertError("Invalid parameter type for 'device', expected: integer", () -> args.integer("device"));
        assertError("Invalid parameter type for 'real', expected: integer", () -> args.integer("real"));
        assertError("Invalid parameter type for 'big', expected: integer", () -> args.integer("big"));
        assertError("Invalid parameter type for 'device', expected: number", () -> args.number("device"));
        assertError("Invalid parameter type for 'device', expected: object", () -> args.object("device"));
        assertError("Invalid parameter type for 'device', expected: array", () -> args.list("device"));
        // null is a value of the wrong type, not an absent member
        assertError("Invalid parameter type for 'nothing', expected: string", () -> args.string("nothing", "x"));
        assertError("Invalid parameter type for 'rules[2]', expected: object", () -> args.objects("rules"));
        assertError("Invalid parameter type for 'names[1]', expected: string", () -> args.strings("names"));
        Members second =
                args("{\"rules\": [{}, {\"state\": \"x\"}]}").objects("rules").get(1);
        assertError("Invalid parameter type for 'rules[1].state', expected: integer", () -> second.integer("state"));
        Members first = args(Json.write(Map.of("rules", List.of(Map.of("foo", 1)))))
                .objects("rules")
                .getFirst();
        assertError("Parameter 'rules[0].event' is missing", () -> first.string("event"));
        assertError("Parameter 'rules[0].foo' is unexpected", () -> first.rejectUnknown("event", "state"));
        assertError(
                "Parameter 'device' does not accept value 'ide0-hd0'", () -> args.choice("device", List.of("a", "b")));
        assertError(
                "Parameter 'device' does not accept value 'ide0-hd0' (did you mean ide0-hd1?)",
                () -> args.choice("device", List.of("ide0-hd1", "b")));
    }

    @Test
    void declaredArgumentsAreCheckedInOrderThenUnknownOnesRejected() {
        QmpCommand command = QmpCommand.builder("test")
                .doc("d")
                .required("device", ArgType.STRING, "d")
                .optional("count", ArgType.INT, "c")
                .argument(Argument.enumeration("mode", true, "m", List.of("fast", "slow")))
                .handler(a -> null)
                .build();
        command.checkArguments(args("{\"device\": \"a\"}"));
        command.checkArguments(args("{\"device\": \"a\", \"count\": 3, \"mode\": \"slow\"}"));
        assertError("Parameter 'device' is missing", () -> command.checkArguments(args("{\"bogus\": 1}")));
        assertError(
                "Invalid parameter type for 'device', expected: string",
                () -> command.checkArguments(args("{\"bogus\": 1, \"device\": 2}")));
        assertError(
                "Parameter 'bogus' is unexpected",
                () -> command.checkArguments(args("{\"bogus\": 1, \"device\": \"a\"}")));
        assertError(
                "Parameter 'mode' does not accept value 'warp'",
                () -> command.checkArguments(args("{\"device\": \"a\", \"mode\": \"warp\"}")));
        assertError(
                "Invalid parameter type for 'count', expected: integer",
                () -> command.checkArguments(args("{\"device\": \"a\", \"count\": null}")));
    }

    @Test
    void registryIsIntrospectable() {
        CommandRegistry registry = new CommandRegistry();
        registry.register(QmpCommand.builder("x-test")
                .doc("A test.")
                .required("a", ArgType.BOOL, "flag")
                .returns("{}")
                .handler(a -> Map.of("a", a.bool("a")))
                .build());
        assertEquals(
                List.of("qmp_capabilities", "query-version", "query-commands", "x-test"),
                registry.commands().stream().map(QmpCommand::name).toList());
        QmpCommand test = registry.find("x-test").orElseThrow();
        assertEquals("A test.", test.doc());
        assertEquals(List.of(Argument.required("a", ArgType.BOOL, "flag")), test.arguments());
        assertEquals("bool", test.arguments().getFirst().typeName());
        assertEquals(Map.of("a", true), registry.invoke("x-test", Map.of("a", 1L)));
        assertError("The command nope has not been found", () -> registry.invoke("nope", Map.of()));
        assertThrows(
                IllegalArgumentException.class,
                () -> registry.register(
                        QmpCommand.builder("x-test").handler(a -> null).build()));
    }

    private static Members args(String json) {
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) Json.parse(json);
        return QmpArguments.of(map);
    }

    private static void assertError(String desc, Executable call) {
        QmpError error = assertThrows(QmpError.class, call);
        assertEquals(desc, error.desc());
    }
}
