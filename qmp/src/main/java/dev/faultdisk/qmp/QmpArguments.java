package dev.faultdisk.qmp;

import dev.faultdisk.wire.Suggestions;
import dev.faultdisk.wire.json.Members;
import java.util.Collection;
import java.util.Map;

/**
 * A command's arguments as handlers read them: {@link Members} whose errors are QEMU's texts,
 * each a GenericError naming the parameter by its full path ({@code rules[0].event}):
 * <ul>
 * <li>absent and required: "Parameter 'X' is missing";</li>
 * <li>wrong type: "Invalid parameter type for 'X', expected: TYPE";</li>
 * <li>not declared: "Parameter 'X' is unexpected";</li>
 * <li>not one of an enum's values: "Parameter 'X' does not accept value 'V'".</li>
 * </ul>
 */
public final class QmpArguments implements Members.Errors {
    /** The one instance: it holds no state. */
    public static final QmpArguments ERRORS = new QmpArguments();

    private QmpArguments() {}

    /** Top-level arguments. */
    public static Members of(Map<String, ?> values) {
        return Members.of(values, "", ERRORS);
    }

    @Override
    public QmpError missing(String name) {
        return QmpError.missingParameter(name);
    }

    @Override
    public QmpError wrongType(String name, Members.Type expected, Object value) {
        return QmpError.invalidParameterType(name, expected.word());
    }

    @Override
    public QmpError unexpected(String name) {
        return QmpError.unexpectedParameter(name);
    }

    @Override
    public QmpError notAllowed(String name, String value, Collection<String> allowed) {
        QmpError plain = QmpError.invalidEnumValue(name, value);
        String hint = Suggestions.didYouMean(value, allowed);
        // QEMU's words first, so a client matching them still does; then the value meant, if plain.
        return hint.isEmpty() ? plain : QmpError.generic("%s (%s)", plain.desc(), hint);
    }
}
