package train

// Both element types of every rule are instantiated here, in non-test
// code: Go compiles a generic function only where it is instantiated, and
// internal/fusecheck, which reads the compiler's listing of non-test code,
// must see the rules' loops even in a build where no trainer uses them.
var _ = [...]func(string, int) (Update[float32], error){NewUpdate[float32]}
var _ = [...]func(string, int) (Update[float64], error){NewUpdate[float64]}
