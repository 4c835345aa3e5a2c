module github.com/adagrad-go/adagrad

go 1.26

require gonum.org/v1/gonum v0.17.0

require github.com/jgillich/go-opencl v0.0.0-20180608191952-a0efba3e5257
