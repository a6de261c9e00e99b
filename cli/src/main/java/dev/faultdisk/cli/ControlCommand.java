package dev.faultdisk.cli;

import dev.faultdisk.client.ControlAddress;
import dev.faultdisk.client.ControlSecurity;
import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.client.FaultdiskTimeoutException;
import dev.faultdisk.client.NotQmpException;
import dev.faultdisk.client.QmpConnectionException;
import dev.faultdisk.client.QmpException;
import dev.faultdisk.wire.json.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.SocketAddress;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command that talks to a running server: connects, runs, and turns every failure into a
 * one-line message and an exit code (see {@link ExitCodes}).
 */
abstract class ControlCommand implements Callable<Integer> {
    @Mixin
    ControlOptions control;

    @Spec
    CommandSpec spec;

    /**
     * Checks the arguments before connecting; returns an exit code to finish without connecting, or
     * null to go on. A {@link UsageException} or {@link IllegalArgumentException} it throws (the
     * parsers of rules throw the latter) is a usage error with its message.
     */
    Integer before() {
        return null;
    }

    /** Does the work; returns the exit code. */
    abstract int run(FaultdiskClient client) throws Exception;

    @Override
    public final Integer call() throws Exception {
        SocketAddress address;
        try {
            address = ControlAddress.parse(control.qmp);
        } catch (IllegalArgumentException e) {
            return fail(ExitCodes.USAGE, "--qmp: " + e.getMessage());
        }
        try {
            Integer done = before();
            if (done != null) {
                return done;
            }
        } catch (UsageException | IllegalArgumentException e) {
            return fail(ExitCodes.USAGE, e.getMessage());
        }
        ControlSecurity security;
        try {
            security = control.security();
        } catch (IOException e) {
            return fail(ExitCodes.USAGE, e.getMessage());
        }
        FaultdiskClient client;
        try {
            client = FaultdiskClient.connect(address, control.timeout, security);
        } catch (NotQmpException e) {
            return fail(
                    ExitCodes.CANNOT_CONNECT,
                    e.getMessage() + ": --qmp (or FAULTDISK_QMP) names the control socket, 127.0.0.1:4444 unless"
                            + " faultdisk serve was given another --qmp");
        } catch (IOException e) {
            return fail(
                    ExitCodes.CANNOT_CONNECT,
                    e.getMessage() + " (is faultdisk serve running? --qmp or FAULTDISK_QMP choose the address)");
        }
        try (client) {
            return run(client);
        } catch (QmpException e) {
            return fail(ExitCodes.REFUSED, e.command() + ": " + e.errorClass() + ": " + e.desc());
        } catch (QmpConnectionException e) {
            return fail(ExitCodes.CANNOT_CONNECT, e.getMessage());
        } catch (FaultdiskTimeoutException e) {
            return fail(ExitCodes.TIMEOUT, e.getMessage());
        } catch (UsageException e) {
            return fail(ExitCodes.USAGE, e.getMessage());
        }
    }

    final int fail(int code, String message) {
        err().println(spec.qualifiedName() + ": " + message);
        err().flush();
        return code;
    }

    final PrintWriter out() {
        return spec.commandLine().getOut();
    }

    final PrintWriter err() {
        return spec.commandLine().getErr();
    }

    /** Prints {@code line} and flushes it: a script reading the output sees each line at once. */
    final void printLine(String line) {
        out().println(line);
        out().flush();
    }

    /** Prints {@code value} as JSON: pretty for a single value. */
    final void printJson(Object value) {
        printLine(Json.writePretty(value));
    }

    /** The usual end of a command: {@code json} with --json, else {@code text}; exit 0. */
    final int reply(Object json, String text) {
        if (control.json) {
            printJson(json);
        } else {
            printLine(text);
        }
        return ExitCodes.OK;
    }

    /** A mistake in the arguments found only once connected (e.g. a bad JSON argument). */
    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }
}
