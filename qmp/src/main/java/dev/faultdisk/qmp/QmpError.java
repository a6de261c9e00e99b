package dev.faultdisk.qmp;

import com.google.errorprone.annotations.FormatMethod;
import com.google.errorprone.annotations.FormatString;
import dev.faultdisk.wire.Suggestions;
import java.util.Collection;

/**
 * A command's failure as the client sees it: {@code {"error": {"class": ..., "desc": ...}}}.
 * Unchecked so that handlers can throw it from anywhere (lambdas included). The factories give
 * QEMU's wording for the common cases.
 */
public final class QmpError extends RuntimeException {
    private final ErrorClass errorClass;

    public QmpError(ErrorClass errorClass, String desc) {
        super(desc, null, false, false);
        this.errorClass = errorClass;
    }

    public ErrorClass errorClass() {
        return errorClass;
    }

    /** The human-readable text sent in {@code "desc"}. */
    public String desc() {
        return getMessage();
    }

    /** GenericError with a formatted text. */
    @FormatMethod
    public static QmpError generic(@FormatString String format, Object... args) {
        return new QmpError(ErrorClass.GENERIC_ERROR, args.length == 0 ? format : String.format(format, args));
    }

    /** DeviceNotFound: "Device 'NAME' not found". */
    public static QmpError deviceNotFound(String device) {
        return new QmpError(ErrorClass.DEVICE_NOT_FOUND, "Device '" + device + "' not found");
    }

    /**
     * DeviceNotFound as QEMU words it, then what exists: "Device 'dsik0' not found (did you mean
     * disk0? exports: disk0, data)", so a client that matches QEMU's prefix still matches.
     */
    public static QmpError deviceNotFound(String device, Collection<String> exports) {
        String hint = Suggestions.didYouMean(device, exports);
        String list = exports.isEmpty() ? "no exports" : "exports: " + String.join(", ", exports);
        return new QmpError(
                ErrorClass.DEVICE_NOT_FOUND,
                "Device '" + device + "' not found (" + (hint.isEmpty() ? "" : hint + " ") + list + ")");
    }

    /** CommandNotFound: "The command NAME has not been found". */
    public static QmpError commandNotFound(String command) {
        return new QmpError(ErrorClass.COMMAND_NOT_FOUND, "The command " + command + " has not been found");
    }

    /** CommandNotFound, with the nearest of {@code known} when one is near enough to be the one meant. */
    public static QmpError commandNotFound(String command, Collection<String> known) {
        String hint = Suggestions.didYouMean(command, known);
        return new QmpError(
                ErrorClass.COMMAND_NOT_FOUND,
                "The command " + command + " has not been found" + (hint.isEmpty() ? "" : " (" + hint + ")"));
    }

    /** "Parameter 'NAME' is missing". */
    public static QmpError missingParameter(String name) {
        return generic("Parameter '%s' is missing", name);
    }

    /** "Invalid parameter type for 'NAME', expected: TYPE" (TYPE: string, integer, boolean, ...). */
    public static QmpError invalidParameterType(String name, String expected) {
        return generic("Invalid parameter type for '%s', expected: %s", name, expected);
    }

    /** "Parameter 'NAME' is unexpected". */
    public static QmpError unexpectedParameter(String name) {
        return generic("Parameter '%s' is unexpected", name);
    }

    /** "Parameter 'NAME' does not accept value 'VALUE'" (an enum value not in the list). */
    public static QmpError invalidEnumValue(String name, String value) {
        return generic("Parameter '%s' does not accept value '%s'", name, value);
    }

    /** "Parameter 'NAME' expects WHAT" (a value of the right type but out of range). */
    public static QmpError parameterExpects(String name, String what) {
        return generic("Parameter '%s' expects %s", name, what);
    }
}
