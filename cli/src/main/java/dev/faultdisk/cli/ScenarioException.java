package dev.faultdisk.cli;

import java.util.List;

/** A scenario file that cannot run, with every problem found (each naming where it is). */
final class ScenarioException extends Exception {
    private final List<String> problems;

    ScenarioException(String source, List<String> problems) {
        super(message(source, problems));
        this.problems = List.copyOf(problems);
    }

    /** The problems as one message: on the line of {@code source} if one, else listed below it. */
    static String message(String source, List<String> problems) {
        return source + ": "
                + (problems.size() == 1
                        ? problems.getFirst()
                        : problems.size() + " problems:\n  " + String.join("\n  ", problems));
    }

    List<String> problems() {
        return problems;
    }
}
