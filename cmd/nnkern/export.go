package main

func runDataExport(e *env, args []string) error {
	return usagef("data export: not wired yet (waiting for cifar writers)")
}
