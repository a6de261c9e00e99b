package dev.faultdisk.cli.campaign;

import java.util.Optional;

/**
 * How a run ended, as the 2017 study classed global effects, most severe first. The check
 * command names the class of what it saw; the runner adds what only it sees (a node that died or
 * hung, a fault that never fired).
 */
public enum Outcome implements WireNamed {
    CORRUPTION_PROPAGATED("#7b1fa2", "a wrong value is served by more than one node"),
    WRONG_RESULT("#c62828", "a read returned a value that was never acknowledged for its key"),
    DATA_LOST("#e53935", "an acknowledged write is missing"),
    UNAVAILABLE("#ef6c00", "the cluster did not serve reads or acknowledge writes"),
    NODE_CRASHED("#f9a825", "the data is correct, but a node died, hung or did not start"),
    REDUCED_REDUNDANCY("#fdd835", "the data is correct, but a node does not serve"),
    CORRECT("#43a047", "every acknowledged write read back from every node"),
    NOT_HIT("#bdbdbd", "the fault never fired: the node did not touch the target in this run"),
    CAMPAIGN_ERROR("#616161", "the campaign itself failed (a step could not run)");

    private final String colour;
    private final String meaning;

    Outcome(String colour, String meaning) {
        this.colour = colour;
        this.meaning = meaning;
    }

    public String colour() {
        return colour;
    }

    public String meaning() {
        return meaning;
    }

    public static Optional<Outcome> byName(String name) {
        return WireNamed.byName(values(), name);
    }

    /** The more severe of two outcomes (a table cell shows the worst of its runs). */
    Outcome worse(Outcome other) {
        return other.ordinal() < ordinal() ? other : this;
    }
}
