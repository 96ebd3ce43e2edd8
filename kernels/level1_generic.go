//go:build !amd64 || !gc || purego

package kernels

func dot[T Float](x, y []T) T        { return dotGeneric(x, y) }
func axpy[T Float](a T, x, y []T)    { axpyGeneric(a, x, y) }
func scale[T Float](a T, x []T)      { scaleGeneric(a, x) }
func addTo[T Float](dst, x []T)      { addToGeneric(dst, x) }
func subFrom[T Float](dst, x []T)    { subFromGeneric(dst, x) }
func mulTo[T Float](dst, x []T)      { mulToGeneric(dst, x) }
func sum[T Float](x []T) T           { return sumGeneric(x) }
func sumSq[T Float](x []T) T         { return sumSqGeneric(x) }
func sumSq64[T Float](x []T) float64 { return sumSq64Generic(x) }
func max_[T Float](x []T) T          { return maxGeneric(x) }
func argMax[T Float](x []T) int      { return argMaxGeneric(x) }
