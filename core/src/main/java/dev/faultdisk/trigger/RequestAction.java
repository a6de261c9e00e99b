package dev.faultdisk.trigger;

/** An action to apply to the request that fired a trigger, with the trigger it comes from. */
public record RequestAction(long trigger, String name, TriggerAction action) {}
