module github.com/adagrad-go/adagrad

go 1.26.0

require gonum.org/v1/gonum v0.17.0

require (
	github.com/jgillich/go-opencl v0.0.0-20180608191952-a0efba3e5257
	gorgonia.org/cu v0.9.6
)

require (
	github.com/google/uuid v1.1.1 // indirect
	github.com/pkg/errors v0.9.1 // indirect
)
