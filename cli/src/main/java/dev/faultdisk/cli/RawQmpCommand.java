package dev.faultdisk.cli;

import dev.faultdisk.client.FaultdiskClient;
import dev.faultdisk.wire.json.Json;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code faultdisk qmp}: any command, raw. */
@Command(
        name = "qmp",
        mixinStandardHelpOptions = true,
        description = {
            "Send one QMP command with JSON arguments and print what it returns (pretty JSON; one line "
                    + "with --json). Every command the server has works, including ones newer than this program: "
                    + "faultdisk qmp query-commands lists them; docs/qmp-reference.md describes them."
        },
        footer = {
            "  faultdisk qmp query-commands",
            "  faultdisk qmp query-blkdebug-rules '{\"device\": \"disk0\"}'",
            "  faultdisk qmp blkdebug-set-rules '{\"device\": \"disk0\", \"rules\": [{\"event\": \"write_aio\", "
                    + "\"type\": \"inject-error\", \"immediately\": 1, \"once\": 0, \"state\": 1}]}'"
        })
final class RawQmpCommand extends ControlCommand {
    @Parameters(index = "0", paramLabel = "COMMAND", description = "The command's name, e.g. query-block.")
    String command;

    @Parameters(
            index = "1",
            arity = "0..1",
            paramLabel = "ARGUMENTS",
            description = "A JSON object of arguments (default {}).")
    String arguments;

    @Override
    int run(FaultdiskClient client) {
        Map<String, Object> args;
        try {
            args = arguments == null ? Map.of() : Json.parseObject(arguments);
        } catch (IllegalArgumentException e) {
            throw new UsageException("ARGUMENTS must be a JSON object: " + e.getMessage());
        }
        Object result = client.execute(command, args);
        if (control.json) {
            out().println(Json.write(result));
            out().flush();
        } else {
            printJson(result);
        }
        return ExitCodes.OK;
    }
}
