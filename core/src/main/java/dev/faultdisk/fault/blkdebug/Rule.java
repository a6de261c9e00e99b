package dev.faultdisk.fault.blkdebug;

/**
 * A blkdebug rule: immutable data. When its {@link #event()} fires and the engine is in
 * {@link #state()} (0 = any state), the rule takes its action.
 */
public sealed interface Rule permits InjectErrorRule, SetStateRule {

    /** State value that matches every state. */
    int ANY_STATE = 0;

    BlkdebugEvent event();

    /** The state the engine must be in for the rule to act, or {@link #ANY_STATE}. */
    int state();

    /** The section name of this rule type in blkdebug's configuration file. */
    String typeName();
}
