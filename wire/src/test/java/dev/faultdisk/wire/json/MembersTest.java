package dev.faultdisk.wire.json;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The reader itself, with errors that say which hook made them; QMP's and the rules' texts are tested where they live. */
class MembersTest {
    private static final Members.Errors ERRORS = new Members.Errors() {
        @Override
        public RuntimeException missing(String name) {
            return new IllegalStateException("missing " + name);
        }

        @Override
        public RuntimeException wrongType(String name, Members.Type expected, Object value) {
            return new IllegalStateException(name + " not " + expected.withArticle() + " but " + Json.describe(value));
        }

        @Override
        public RuntimeException unexpected(String name) {
            return new IllegalStateException("unexpected " + name);
        }

        @Override
        public RuntimeException notAllowed(String name, String value, Collection<String> allowed) {
            return new IllegalStateException(name + " not in " + allowed + ": " + value);
        }
    };

    private final Members top =
            Members.object(Json.parse("{'a': {'ids': [1, 2, 'x'], 'mode': 'slow', 'n': null}, 'b': 1}"), "", ERRORS);

    @Test
    void errorsComeFromTheHookWithFullNames() {
        Members a = top.object("a");
        assertEquals("missing a.c", message(() -> a.string("c")));
        assertEquals("a.n not a string but null", message(() -> a.string("n")));
        assertEquals("a.ids[2] not an integer but a string", message(() -> a.integers("ids")));
        assertEquals("a.mode not in [fast]: slow", message(() -> a.choice("mode", List.of("fast"))));
        assertEquals("unexpected a.ids", message(() -> a.rejectUnknown("mode")));
        assertEquals(" not an object but an array", message(() -> Members.object(List.of(), "", ERRORS)));
    }

    @Test
    void gettersMarkWhatTheyUsed() {
        Members a = top.object("a");
        assertEquals("slow", a.string("mode", "fast"));
        assertEquals(Optional.of("ids"), a.unused());
        assertThrows(IllegalStateException.class, () -> a.integers("ids"));
        assertEquals(Set.of("mode", "ids"), a.used());
        assertEquals(Optional.of("n"), a.unused());
        assertEquals(true, top.bool("b"));
    }

    private static String message(Runnable call) {
        return assertThrows(IllegalStateException.class, call::run).getMessage();
    }
}
